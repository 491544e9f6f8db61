"""The model boundary: endpoint client, built-in prover and answer extraction."""

from leanloop.model.base import ChatMessage, Completion, Model, ProofRequest
from leanloop.model.builtin import BuiltinAutomation
from leanloop.model.extract import Extracted, ExtractionError, extract
from leanloop.model.openai_model import OpenAIModel

__all__ = [
    "BuiltinAutomation",
    "ChatMessage",
    "Completion",
    "Extracted",
    "ExtractionError",
    "Model",
    "OpenAIModel",
    "ProofRequest",
    "extract",
]
