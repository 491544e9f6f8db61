"""The model boundary: endpoint client, built-in prover and answer extraction."""

from agent.model.base import ChatMessage, Completion, Model, ProofRequest
from agent.model.builtin import BuiltinAutomation
from agent.model.extract import Extracted, ExtractionError, extract
from agent.model.openai_model import OpenAIModel

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
