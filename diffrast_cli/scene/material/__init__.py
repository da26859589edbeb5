"""Materials of scene kinds: PBR shading inputs (environment maps) shared by the kinds."""
