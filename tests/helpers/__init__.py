"""Code shared by several test folders: tiny datasets and runs, audio files, libraries, shards.

A test imports these from here, never from another folder's conftest.py; conftest files hold
fixtures (and what only their own folder uses).
"""
