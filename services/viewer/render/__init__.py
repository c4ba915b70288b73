"""Rendering for the viewer: MPR planes (numpy) and 3D views (pyvista)."""
