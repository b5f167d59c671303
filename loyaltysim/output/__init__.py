"""The output layer: results folders (and their lock), tables, charts, the report's content
and renderers."""
