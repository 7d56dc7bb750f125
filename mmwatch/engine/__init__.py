"""The cycle itself and the machinery it runs: discover models, plan the matrix less what is
stored, evaluate new cells, and record what code produced them. Flows, the CLI and the scheduler
call `mmwatch.engine.cycle`; nothing here imports Prefect, Streamlit or a database driver."""
