"""`verifier backup DEST` and `verifier restore SRC` (see service.py for what a backup holds)."""

from __future__ import annotations

from pathlib import Path

import click

from ..settings import Settings
from ..store.home import PRIVATE_UMASK


@click.command()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--keys-to", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write the keys into this directory instead of the backup (keep keys and data apart).")
def backup(dest: Path, keys_to: Path | None) -> None:
    """Copy the database (one consistent snapshot), the evidence and the keys into the new directory DEST."""
    import os

    from .service import BackupError
    from .service import backup as make_backup

    os.umask(PRIVATE_UMASK)
    try:
        manifest = make_backup(Settings.from_env(), dest, keys_to=keys_to)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    evidence = sum(1 for rel in manifest.files if rel.startswith("evidence/"))
    click.echo(f"backed up the {manifest.database} database (schema {manifest.schema_revision}, audit log of "
               f"{manifest.audit.size} entries, root {manifest.audit.root}) and {evidence} evidence file(s) "
               f"into {dest.resolve()}")
    click.echo(f"keys: {(keys_to or dest / 'keys').resolve()} (keep them apart from the data; whoever holds both "
               "reads every ID number)")


@click.command()
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--keys-from", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Where the keys are, when the backup was made with --keys-to.")
@click.option("--since", "since_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A checkpoint note saved before the backup (`verifier audit checkpoint`): prove the restored log "
                   "extends it.")
def restore(src: Path, keys_from: Path | None, since_file: Path | None) -> None:
    """Make the empty VERIFIER_HOME (and empty database) from the backup SRC, then verify the audit log."""
    import os

    from .service import BackupError
    from .service import restore as do_restore

    os.umask(PRIVATE_UMASK)
    since = since_file.read_text("utf-8") if since_file is not None else None
    try:
        result = do_restore(Settings.from_env(), src, keys_from=keys_from, since=since)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored the backup of {result.manifest.created}: audit log of {result.entries} entries and "
               f"{result.checkpoints} checkpoints verified, ending at the checkpoint the backup recorded")
    if result.since_size is not None:
        click.echo(f"the restored log extends the given checkpoint of {result.since_size} entries (consistency proof "
                   "checked)")
