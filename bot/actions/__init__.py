"""Custom Rasa actions (rasa-sdk), thin: read the tracker, call a service, return events."""

from bot.actions.complaints import (
    ActionAskComplaintAnonymous,
    ActionAskComplaintCategory,
    ActionAskComplaintText,
    ActionComplaintStatus,
    ActionSubmitComplaint,
    ValidateComplaintForm,
)
from bot.actions.erasure import ActionEraseData
from bot.actions.faq import ActionAnswerQuestion
from bot.actions.handover import ActionFeedback, ActionRequestHandover
from bot.actions.language import ActionSetLanguage
from bot.actions.subscriptions import ActionSubscribe

__all__ = [
    "ActionAnswerQuestion",
    "ActionAskComplaintAnonymous",
    "ActionAskComplaintCategory",
    "ActionAskComplaintText",
    "ActionComplaintStatus",
    "ActionEraseData",
    "ActionFeedback",
    "ActionRequestHandover",
    "ActionSetLanguage",
    "ActionSubmitComplaint",
    "ActionSubscribe",
    "ValidateComplaintForm",
]
