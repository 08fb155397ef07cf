"""Intent classifier on multilingual sentence vectors plus character n-grams (Rasa 3.6).

Features: the e5 sentence vector that ``E5Featurizer`` adds (unit length; carries meaning
across languages, so Pashto or French questions land where Turkish and Arabic ones taught
it), next to ``char_weight`` x an L2-normalised character 2-4-gram TF-IDF (carries spelling:
"menü", "STOP", Turkish words inside Arabic), and ``neighbour_weight`` x, for each intent,
the cosine similarity of the nearest training example of that intent (a nearest-neighbour
vote: short messages such as "لغو اشتراک" sit close to one example of their intent even
where a linear boundary over the whole vector splits them from it; in training each example
sees the others, never itself). A logistic regression over all three, with a real ``C``
(Rasa's own LogisticRegressionClassifier fixes C at 1, which drowns the dense half). Chosen
by bench/nlu_accuracy.py against the plain pipeline and DIET.

The n-grams are taken from ``normalize`` text: lower case (Turkish "İ"/"I" as "i"/"ı"),
Arabic diacritics and tatweel removed, the zero-width non-joiner (Persian half space) read
as a space, and the letters that Arabic, Persian and Dari writers spell differently unified
(أ إ آ ٱ → ا, ى ي ئ → ی, ك → ک, ة ۀ → ه, ؤ → و, Arabic-Indic and Persian digits → 0-9), so
"اطلاعیه‌ها" and "اطلاعيه ها", or "إلغاء" and "الغاء", share their n-grams; a letter repeated
for emphasis counts once, and Arabizi digits (la2, 7abibi) are read as Latin letters. The e5
vector still sees the raw text.
"""

import re
from typing import Any, Dict, List, Optional, Text, Tuple

import joblib
import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from nlu.e5_featurizer import E5Featurizer

MODEL_FILE = "e5_intent_classifier.joblib"

_DIACRITICS = re.compile("[\u064b-\u065f\u0670]")  # harakat, shadda, sukun, dagger alef
_LETTERS = str.maketrans(
    {
        **dict.fromkeys("أإآٱ", "ا"),
        **dict.fromkeys("ىيئ", "ی"),
        "ك": "ک",
        **dict.fromkeys("ةۀ", "ه"),
        "ؤ": "و",
        "\u0640": None,  # tatweel
        "\u200c": " ",  # zero-width non-joiner (Persian half space), often typed as a space
        **{chr(0x0660 + d): str(d) for d in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + d): str(d) for d in range(10)},  # Persian digits
    }
)
# a letter stretched for emphasis ("شكراااا", "merciii") counts once
_REPEATS = re.compile(r"([^\W\d_])\1{2,}")
# Arabizi writes the sounds Latin lacks as digits (la2, ma3, 7abibi, 5alas); spelled as in
# plain-Latin writing ("la", "ma", "habibi", "khalas"), and only next to a lower-case letter,
# so that numbers and complaint references ("UY-7K3M-Q2XD") keep their digits
_ARABIZI = re.compile(r"(?<=[a-z])[2357]|[2357](?=[a-z])")
_ARABIZI_LETTERS = {"2": "", "3": "", "5": "kh", "7": "h"}


def normalize(text: Text) -> Text:
    """Spelling-neutral text for the character n-grams (a module-level function: picklable)."""
    text = _ARABIZI.sub(lambda digit: _ARABIZI_LETTERS[digit.group()], text)
    text = text.replace("İ", "i").replace("I", "ı").lower()
    text = _REPEATS.sub(r"\1", text)
    return _DIACRITICS.sub("", text).translate(_LETTERS)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class E5IntentClassifier(IntentClassifier, GraphComponent):
    """Logistic regression over [e5 sentence vector, char_weight x char TF-IDF]."""

    @classmethod
    def required_components(cls) -> List[type]:
        return [E5Featurizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "C": 100.0,
            "char_weight": 0.5,
            "neighbour_weight": 1.0,
            "min_ngram": 2,
            "max_ngram": 4,
            "max_iter": 2000,
            "ranking_length": 10,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vectorizer: Optional[TfidfVectorizer] = None,
        classifier: Optional[LogisticRegression] = None,
        neighbours: Optional[Tuple[np.ndarray, np.ndarray]] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._vectorizer = vectorizer
        self._classifier = classifier
        # training vectors sorted by intent, and where each intent's rows start
        self._neighbours = neighbours

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "E5IntentClassifier":
        return cls(config, model_storage, resource)

    @staticmethod
    def _vectors(messages: List[Message]) -> np.ndarray:
        dense = []
        for message in messages:
            sentence = message.get_dense_features(TEXT)[1]
            if sentence is None:
                raise ValueError("E5IntentClassifier needs E5Featurizer before it")
            dense.append(np.asarray(sentence.features, dtype=np.float32).reshape(-1))
        return np.vstack(dense)

    def _nearest(self, vectors: np.ndarray, *, training: bool = False) -> np.ndarray:
        """Per message and intent, the similarity of the intent's nearest training example."""
        assert self._neighbours is not None
        examples, starts = self._neighbours
        similarity = vectors @ examples.T
        if training:  # an example (or an identical copy of it) is not its own neighbour
            similarity[similarity > 0.9999] = -1.0
        return np.maximum.reduceat(similarity, starts, axis=1)

    def _features(self, messages: List[Message], *, training: bool = False) -> csr_matrix:
        assert self._vectorizer is not None
        vectors = self._vectors(messages)
        chars = self._vectorizer.transform([m.get(TEXT) for m in messages])
        parts = [csr_matrix(vectors), chars * self.config["char_weight"]]
        if self.config["neighbour_weight"]:
            nearest = self._nearest(vectors, training=training)
            parts.append(csr_matrix(nearest * self.config["neighbour_weight"]))
        return hstack(parts).tocsr()

    def train(self, training_data: TrainingData) -> Resource:
        examples = sorted(
            (m for m in training_data.intent_examples if m.get(TEXT)), key=lambda m: m.get(INTENT)
        )
        intents = [m.get(INTENT) for m in examples]
        starts = np.array(
            [i for i, intent in enumerate(intents) if i == 0 or intent != intents[i - 1]]
        )
        self._neighbours = (self._vectors(examples), starts)
        self._vectorizer = TfidfVectorizer(
            analyzer="char_wb",
            preprocessor=normalize,
            sublinear_tf=True,
            ngram_range=(self.config["min_ngram"], self.config["max_ngram"]),
        ).fit([m.get(TEXT) for m in examples])
        self._classifier = LogisticRegression(
            C=self.config["C"], max_iter=self.config["max_iter"], random_state=42
        ).fit(self._features(examples, training=True), intents)
        with self._model_storage.write_to(self._resource) as folder:
            joblib.dump((self._vectorizer, self._classifier, self._neighbours), folder / MODEL_FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "E5IntentClassifier":
        try:
            with model_storage.read_from(resource) as folder:
                vectorizer, classifier, neighbours = joblib.load(folder / MODEL_FILE)
        except (ValueError, FileNotFoundError):  # nothing was trained (no NLU data)
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, vectorizer, classifier, neighbours)

    def process(self, messages: List[Message]) -> List[Message]:
        todo = [m for m in messages if m.get(TEXT) and not m.get(INTENT)]
        if not todo or self._classifier is None:
            return messages
        probabilities = self._classifier.predict_proba(self._features(todo))
        labels = self._classifier.classes_
        for message, row in zip(todo, probabilities, strict=True):
            order = np.argsort(row)[::-1][: self.config["ranking_length"]]
            ranking = [{"name": str(labels[i]), "confidence": float(row[i])} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
