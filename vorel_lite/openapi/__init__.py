"""The served OpenAPI 3.1 document, built from the views' declarations and the schemas."""
