"""Forms: one description of a field and one validator, shared by every way input arrives.

A request type's customer form, a staff action's fields, the JSON API and `workflows simulate`
all validate through `validate.validate_fields`, so a field accepts the same values, drops the
same hidden answers and says the same thing about a mistake wherever it is filled in. The same
fields yield the JSON Schema the OpenAPI document publishes. Nothing here touches the database
or the workflow engine: this package sits below both.
"""
