"""Rendering of the day's documents for people: printable PDFs with a CJK font."""
