"""The Streamlit dashboard. Pages are thin; their logic lives in plain modules here."""
