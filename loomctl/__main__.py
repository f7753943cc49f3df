from loomctl.cli import main

main()
