"""Services: the domain's rules applied to the store, one transaction per change.

The Discord cogs and the command line call these and only format what they return.
"""
