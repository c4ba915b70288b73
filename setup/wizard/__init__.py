"""The setup wizard (`pacsbox setup`): keys, certificates, the admin password and `.env` in one pass.

    questions.py  the interactive prompts       flags.py   flags and environment
            \\                                      /
             `---------> answers.Answers <--------'
                               |
                           apply.py  -> pki.py (CA, server certificate, JWT keys)
                               |     -> envfile.py (.env), files.py (0600, atomic)
                          summary.py    URLs, token page, how to trust the CA

`check.py` reports the state (`--check`); `network.py` finds the names to offer.
"""
