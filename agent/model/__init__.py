"""The model boundary: endpoint client, built-in prover and answer extraction."""

from leanloop.model.base import (
    Announcing,
    ChatMessage,
    Completion,
    Model,
    Notify,
    ProofRequest,
    ToolCall,
    ToolCompletion,
    ToolModel,
)
from leanloop.model.builtin import BuiltinAutomation
from leanloop.model.extract import Extracted, ExtractionError, extract
from leanloop.model.openai_model import OpenAIModel

__all__ = [
    "Announcing",
    "BuiltinAutomation",
    "ChatMessage",
    "Completion",
    "Extracted",
    "ExtractionError",
    "Model",
    "Notify",
    "OpenAIModel",
    "ProofRequest",
    "ToolCall",
    "ToolCompletion",
    "ToolModel",
    "extract",
]
