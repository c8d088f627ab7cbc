from nnqft.cli import main

main()
