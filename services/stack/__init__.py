"""The whole stack on one machine: nginx's configuration, the start-up checks and `pacsbox up`."""
