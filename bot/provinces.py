"""Türkiye's 81 provinces, found in a message however their Turkish letters are typed."""

from __future__ import annotations

import re

PROVINCES = (
    "Adana", "Adıyaman", "Afyonkarahisar", "Ağrı", "Amasya", "Ankara", "Antalya", "Artvin",
    "Aydın", "Balıkesir", "Bilecik", "Bingöl", "Bitlis", "Bolu", "Burdur", "Bursa", "Çanakkale",
    "Çankırı", "Çorum", "Denizli", "Diyarbakır", "Edirne", "Elazığ", "Erzincan", "Erzurum",
    "Eskişehir", "Gaziantep", "Giresun", "Gümüşhane", "Hakkari", "Hatay", "Isparta", "Mersin",
    "İstanbul", "İzmir", "Kars", "Kastamonu", "Kayseri", "Kırklareli", "Kırşehir", "Kocaeli",
    "Konya", "Kütahya", "Malatya", "Manisa", "Kahramanmaraş", "Mardin", "Muğla", "Muş",
    "Nevşehir", "Niğde", "Ordu", "Rize", "Sakarya", "Samsun", "Siirt", "Sinop", "Sivas",
    "Tekirdağ", "Tokat", "Trabzon", "Tunceli", "Şanlıurfa", "Uşak", "Van", "Yozgat", "Zonguldak",
    "Aksaray", "Bayburt", "Karaman", "Kırıkkale", "Batman", "Şırnak", "Bartın", "Ardahan",
    "Iğdır", "Yalova", "Karabük", "Kilis", "Osmaniye", "Düzce",
)  # fmt: skip
# the provinces most migrants live in, as written in Arabic and Persian script
OTHER_SCRIPTS = {
    "اسطنبول": "İstanbul", "استانبول": "İstanbul", "غازي عنتاب": "Gaziantep",
    "عنتاب": "Gaziantep", "هاتاي": "Hatay", "أورفا": "Şanlıurfa", "اورفا": "Şanlıurfa",
    "مرسين": "Mersin", "أضنة": "Adana", "آدانا": "Adana", "كيليس": "Kilis", "قونيا": "Konya",
    "بورصة": "Bursa", "إزمير": "İzmir", "ازمیر": "İzmir", "آنکارا": "Ankara", "أنقرة": "Ankara",
    "قيصري": "Kayseri", "وان": "Van",
}  # fmt: skip
_FOLD = str.maketrans("çğıöşüâîûÇĞİÖŞÜ", "cgiosuaiucgiosu")


def _fold(text: str) -> str:
    return text.replace("İ", "i").replace("I", "ı").lower().translate(_FOLD)


_LATIN = [(re.compile(rf"\b{re.escape(_fold(p))}\b"), p) for p in PROVINCES]


def province_in(text: str) -> str | None:
    """The first province named in ``text`` (its official Turkish spelling), if any."""
    folded = _fold(text)
    for pattern, province in _LATIN:
        if pattern.search(folded):
            return province
    for written, province in OTHER_SCRIPTS.items():
        if re.search(rf"(?<!\w){re.escape(written)}(?!\w)", text):
            return province
    return None
