"""The Discord front end: the only package that imports discord.py.

``app`` builds and runs the bot; ``cogs`` holds its commands; ``views`` and ``forms`` its buttons and
modals; ``checks`` who may moderate; ``embeds`` and ``change_embeds`` how answers and changes look.
"""
