"""The output layer: results folders, tables, charts and the report's content and renderers."""
