"""The assistant port's vocabulary, prompts, tool schemas and output validation (R31–R33)."""
