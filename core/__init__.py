"""What every Ramp app may use, and which uses none of them: people and their roles
(``core.accounts``) and publishing a task after the transaction commits
(``core.publishing``)."""
