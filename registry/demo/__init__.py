"""Demo-data generators (fictional Jiangsu tech firms). Pure Python, no Django imports."""
