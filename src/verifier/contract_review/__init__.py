"""A loaded contract waits for the county's acceptance (待县审核确认) before it prices anything."""
