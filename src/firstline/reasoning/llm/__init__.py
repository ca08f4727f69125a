"""LLM reasoning behind the Reasoner port: `llm` and `hybrid` modes.

Kept import-light on purpose: the graph imports `outcome` from here, and LangChain is only
loaded by the modules that talk to a model.
"""
