"""The multilingual FAQ: content (YAML), schema, embedders, FAISS index, search and evaluation.

This package imports nothing else from the project but ``common``.
"""
