"""The viewer service: server-side rendering (MPR, 3D), study links, viewer configuration, the bundled OHIF."""
