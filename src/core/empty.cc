// Placeholder translation unit for capability folders that have no sources yet.
