from trialdesk.cli import main

main(prog_name="trialdesk")
