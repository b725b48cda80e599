"""Haven: detect, report and remove child sexual exploitation material; protect the children.

The package is layered (see DESIGN.md): engines (`haven.media`, `haven.index`) are plain
Python with no Django import, domain apps own state and workflows, interfaces are thin.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
