"""The PBR material layer (glTF 2.0 metallic-roughness) that surface scene kinds use: maps, lights, environment maps."""
