"""Builds Haven's one C extension: the candidate-verification loop of the hash index.

Everything else is declared in pyproject.toml; setuptools needs this file only because
extension modules cannot yet be declared there without experimental flags.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "haven.index._mihcore",
            sources=["src/haven/index/_mihcore.c"],
            extra_compile_args=["-O3", "-std=c11", "-Wall", "-Wextra"],
        )
    ]
)
