"""Wire formats: versioned envelopes, key headers, key files and tagged JSON records."""
