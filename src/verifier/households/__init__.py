"""The household file (一户一档): everything known about one household across years and contracts, as a read model
assembled from the stage services; and the county's record of a household's risk removed (风险消除)."""
