/** The delimited formats, apart from their decoder so that choosing one does not load the CSV parser. */
export const DELIMITED_FORMATS = ["CSV", "CSVWithNames", "TabSeparated", "TabSeparatedWithNames"] as const;
export type DelimitedFormat = (typeof DELIMITED_FORMATS)[number];
