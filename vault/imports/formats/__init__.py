"""Import formats. Each module registers a `Format` in `REGISTRY` (see `base`).

One line per format module; the import page lists them, and detection tries them, in
`REGISTRY` order.
"""

import vault.imports.formats.bitwarden_csv  # noqa: F401
import vault.imports.formats.bitwarden_encrypted_json  # noqa: F401
import vault.imports.formats.bitwarden_json  # noqa: F401
import vault.imports.formats.chrome_csv  # noqa: F401
import vault.imports.formats.firefox_csv  # noqa: F401
import vault.imports.formats.keepass_xml  # noqa: F401
import vault.imports.formats.lastpass_csv  # noqa: F401
import vault.imports.formats.onepassword_1pux  # noqa: F401
