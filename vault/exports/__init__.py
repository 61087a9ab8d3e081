"""Exports of an org's vault: Bitwarden JSON, Bitwarden CSV, and the password-protected JSON.

`bitwarden` turns an opened item into Bitwarden's export shapes (pure); `selectors`
chooses and opens the items the exporter may take, in batches; `services` streams a
file and records the event; `views` and the `export_vault` command are the two doors.
"""
