"""Reports: one `Report` rendered as JSON, HTML, CSV, XLSX, an annotated manifest, an e-mail.

Every renderer is pure: `Report` in, text or bytes out. Languages are "en" and "zh". Each
renderer is imported from its own module (`gateway.reports.json_report.render_json`,
`gateway.reports.tables.render_xlsx`, ...), and `gateway.reports.formats` is the one registry
of report formats every door uses: a check that writes JSON does not load the workbook
library (and numpy under it) or the HTML templates.
"""
