"""Every word and number a reader sees: the ja/en catalogue, the glossary, number formatting, the language."""
