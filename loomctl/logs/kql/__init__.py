"""KQL for loomctl: escaped literals (`literals`), the canned query catalogue (`catalogue`) and the table views
that let one query serve both Container Apps log destinations (`views`)."""
