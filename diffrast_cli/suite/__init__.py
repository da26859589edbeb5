"""The inverse-rendering task suite (issue 12; docs/soft.md): deterministic task instances
(:mod:`.instances`); the runner and ``diffrast suite`` are not built yet."""
