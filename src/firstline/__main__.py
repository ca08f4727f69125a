from firstline.cli import main

main()
