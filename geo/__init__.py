"""Maps without Streamlit: boundaries from the database (``boundaries``), colour scales (``colors``) and
pydeck layers with a view state that fits a region (``layers``). Pages draw what these return."""
