"""StrideSync's Qt side: the dashboard and the report renderer. The only code that imports Qt."""
