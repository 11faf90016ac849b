"""Another process changing a transit key (run as a script by test_cache.py, not imported by pytest).

Reads the storage spec (JSON for open_storage) and the passphrase from the
environment, so no secret appears on a command line.

    _worker.py ACTION NAME    ACTION: rotate, trim, delete, min-decryption, write-other
"""

from __future__ import annotations

import json
import os
import sys

from secretumvault.keystore import Keystore, open_storage
from secretumvault.transit import Transit


def main() -> None:
    action, name = sys.argv[1], sys.argv[2]
    storage = open_storage(**json.loads(os.environ["SV_TEST_STORAGE"]))
    keystore = Keystore(storage)
    keystore.unseal(os.environ["SV_TEST_PASSPHRASE"])
    transit = Transit(keystore)
    if action == "rotate":
        transit.rotate_key(name)
    elif action == "min-decryption":
        transit.update_key_config(name, min_decryption_version=transit.read_key(name).latest_version)
    elif action == "trim":
        info = transit.update_key_config(name, min_decryption_version=transit.read_key(name).latest_version)
        transit.trim_key(name, info.min_decryption_version)
    elif action == "delete":
        transit.update_key_config(name, deletion_allowed=True)
        transit.delete_key(name)
    elif action == "write-other":
        keystore.put("other/record", os.urandom(16))
    else:
        raise SystemExit(f"unknown action {action!r}")
    storage.close()


if __name__ == "__main__":
    main()
