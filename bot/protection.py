"""Words that signal a protection case: the conversation goes to a person, first in line.

Violence, sexual abuse, trafficking and exploitation, self-harm, detention and children at
risk, in Turkish, Arabic, Persian, Pashto and English. A match is deliberately generous:
asking a person too often costs an operator a minute; missing a case can cost far more.
"""

from __future__ import annotations

import re
import unicodedata

KEYWORDS: dict[str, tuple[str, ...]] = {
    "en": (
        "violence", "violent", "beats me", "beat me", "hit me", "hits me", "abuse", "abused",
        "rape", "raped", "sexual assault", "harass", "trafficking", "trafficked", "traffickers",
        "forced labour", "forced labor", "forced to work", "suicide", "kill myself",
        "hurt myself", "self-harm", "self harm", "end my life", "detained", "detention",
        "arrested", "removal centre", "removal center", "deportation centre", "child at risk",
        "child labour", "child labor", "child marriage", "kidnapped", "threatens to kill",
        "took my passport", "taken my passport", "my child is missing", "my child is lost",
    ),
    "tr": (
        "şiddet", "dövüyor", "dövdü", "darp", "tecavüz", "taciz", "istismar",
        "insan ticareti", "insan kaçakçı", "zorla çalıştır", "intihar", "kendimi öldür",
        "canıma kıy", "kendime zarar", "gözaltı", "tutuklandı", "geri gönderme merkezi",
        "çocuk işçi", "çocuk yaşta evlilik", "erken evlilik", "kaçırıldı", "öldürmekle tehdit",
        "pasaportumu aldı", "pasaportuma el koy", "çocuğum kayboldu", "yaşamak istemiyorum",
    ),
    "ar": (
        "عنف", "يضربني", "ضربني", "يضربون", "اغتصاب", "اغتصب", "تحرش", "اعتداء جنسي",
        "استغلال", "الاتجار بالبشر", "اتجار بالبشر", "مهرب", "عمل قسري", "اجبرني على العمل",
        "انتحار", "اقتل نفسي", "انهي حياتي", "اؤذي نفسي", "احتجاز", "محتجز", "اعتقال",
        "معتقل", "مركز الترحيل", "طفل في خطر", "عمالة الاطفال", "زواج القاصرات",
        "زواج الاطفال", "اختطاف", "خطف", "يهددني بالقتل",
        "ما بدي عيش", "بدي موت", "اخذ جوازي", "سحب جوازي", "ابني ضايع", "بنتي ضايعة",
        "طفلي ضائع",
    ),
    "fa": (
        "خشونت", "کتک", "تجاوز جنسی", "تجاوز کرد", "آزار", "سوء استفاده", "قاچاق انسان",
        "قاچاقچی", "کار اجباری", "مجبور به کار", "خودکشی", "خودم را بکشم", "خودمو بکشم",
        "به خودم آسیب", "بازداشت", "زندانی", "دستگیر", "کمپ اخراج", "کودک در خطر",
        "کار کودک", "ازدواج کودک", "ربوده", "تهدید به قتل",
        "پاسپورتم را گرفته", "پاسپورتم رو گرفته", "بچه‌ام گم شده", "نمی‌خواهم زنده",
    ),
    "ps": (
        "تاوتریخوالی", "وهل", "جنسي تیری", "ځورونه", "د انسانانو قاچاق", "قاچاقبر",
        "جبري کار", "ځان وژنه", "ځان ووژنم", "نیول شوی", "ماشوم په خطر",
        "د ماشومانو کار", "تښتول",
    ),
}  # fmt: skip

# Arabic-script letters written several ways, and marks that do not change the word
_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي", "ي": "ی", "ك": "ک", "ة": "ه"})
_MARKS = re.compile(r"[\u064b-\u065f\u0670\u200c\u200d\u0640]")  # harakat, ZWNJ/ZWJ, tatweel


def normalise(text: str) -> str:
    """Lower case with i and ı alike, one spelling of Arabic-script letters, no diacritics."""
    text = unicodedata.normalize("NFC", text).replace("İ", "i").lower().replace("ı", "i")
    return _MARKS.sub("", text).translate(_LETTERS)


_PATTERNS = [
    re.compile(r"(?<!\w)" + re.escape(normalise(k)).replace(r"\ ", r"\s+"))
    for words in KEYWORDS.values()
    for k in words
]


def is_protection_case(text: str) -> bool:
    """True when ``text`` contains a protection keyword (at the start of a word)."""
    normal = normalise(text)
    return any(p.search(normal) for p in _PATTERNS)
