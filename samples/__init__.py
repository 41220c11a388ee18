"""Generators of sample documents, label images and registries with known content.

The project's tests and demo use what these write; nothing here is copied from elsewhere.
"""
