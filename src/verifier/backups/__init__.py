"""`verifier backup DEST` and `verifier restore SRC`: a consistent copy of one deployment, and a home made from it.

A backup is a directory:

    manifest.json        what was copied, when, from which schema revision, and the audit log's size, root and
                         latest signed checkpoint in the copied database; the SHA-256 and size of every file
    database.sqlite      SQLite: made with SQLite's online backup API (one consistent snapshot, writers go on)
    database.pgdump      PostgreSQL: `pg_dump --format=custom` of the same snapshot the manifest's figures were read in
    evidence/...         the sealed evidence files, as stored
    keys/...             the data, blind-index and checkpoint-signing keys (0600), unless `--keys-to` put them elsewhere,
                         and the last checkpoint the key signed (audit/lastsigned.py): the copied database's latest one,
                         so a home restored from an older backup signs on from its own log

Keys and data belong in different places: whoever holds both reads every ID number. `--keys-to DIR` writes the keys
there instead; the manifest still lists their hashes, so a restore notices a wrong or damaged key file.

A restore goes into an empty home (no keys, no evidence, an empty database) and checks every file against the
manifest before it writes anything. Then it verifies the restored audit log from its first entry, checks that its
latest checkpoint is the one the manifest recorded, and, given a checkpoint note saved earlier (`--since`), proves
that the restored log extends it (an RFC 6962 consistency proof). Anything refused or failed leaves the home as it was.
"""
