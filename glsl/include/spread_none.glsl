// The <scene_spread> of a scene kind without a G hook: nothing (G spreads each
// pixel's difference over the contributors the visibility strategy listed).
