// The client re-exports Douyin's models: `import DouyinOpenAPI` gives both, as before the split.
@_exported import DouyinModels
