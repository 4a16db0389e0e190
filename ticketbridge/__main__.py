from ticketbridge.cli import main

main()
